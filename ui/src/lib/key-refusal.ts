/**
 * What a key upload's refusal means for the person uploading, from the server's code and message.
 * The server sends KEYS_REFUSED both when Kraken rejected the key and when it could not be asked
 * (its message then names the network failure), so the message tells the two apart.
 */
export function explainKeyRefusal(code: string, message: string): string {
  if (code === 'KEY_CAN_WITHDRAW') return `This key can withdraw funds, and Aether refuses such keys: ${message}. Create a key with Query and Trade permissions only.`;
  if (code !== 'KEYS_REFUSED') return message;
  if (/network|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed|timed? ?out|timeout|NotAvailable|unreachable|socket/i.test(message))
    return `Kraken could not be reached to check the key (${message}). Nothing was stored; try again in a minute.`;
  return `Kraken rejected this key (${message}). Check that the API key and private key are from the same pair, copied whole, and that the key is not expired or IP-restricted.`;
}
