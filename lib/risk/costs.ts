/** Fees and slippage: every sizing and approval is net of them (R-6, T-5). */

/** USD needed to buy `amount` at `price` with the taker fee and the expected slippage on top. */
export function buyCost(amount: number, price: number, fee: number, slippage: number): number {
  return amount * price * (1 + fee + slippage);
}

/** The largest amount whose buyCost fits in `usd` (before lot rounding). */
export function maxBuyAmount(usd: number, price: number, fee: number, slippage: number): number {
  return usd / (price * (1 + fee + slippage));
}

/** USD received from selling `amount` at `price`, net of fee and slippage. */
export function sellProceeds(amount: number, price: number, fee: number, slippage: number): number {
  return amount * price * (1 - fee - slippage);
}

/** Round-trip cost of entering and leaving a position, as a fraction of notional. */
export function roundTripCost(takerFee: number, slippage: number): number {
  return 2 * takerFee + 2 * slippage;
}

/** The return an entry must expect before costs: round trip plus the account's margin. */
export function requiredEdge(takerFee: number, slippage: number, margin: number): number {
  return roundTripCost(takerFee, slippage) + margin;
}

/** True when the expected edge clears round-trip costs plus the margin. */
export function edgeClearsCosts(expectedEdge: number, takerFee: number, slippage: number, margin: number): boolean {
  return expectedEdge >= requiredEdge(takerFee, slippage, margin);
}
