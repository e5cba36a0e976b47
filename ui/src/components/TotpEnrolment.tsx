import { QrCode } from './QrCode.tsx';

export interface TotpEnrolmentProps {
  /** The otpauth:// URI from the server, shown once. */
  uri: string;
}

/** The QR code of a new second factor and its secret in text, for an app that cannot scan. */
export function TotpEnrolment({ uri }: TotpEnrolmentProps) {
  const secret = new URL(uri).searchParams.get('secret') ?? '';
  return (
    <div className="row">
      <QrCode value={uri} label="QR code of your new authenticator secret" />
      <div>
        <p>Scan this code with an authenticator app (Google Authenticator, 1Password, Aegis…).</p>
        <p>
          Or enter the secret by hand: <code className="mono">{secret.replace(/(.{4})/g, '$1 ').trim()}</code>
        </p>
        <p className="muted">It is shown only now: keep the app's entry safe.</p>
      </div>
    </div>
  );
}
