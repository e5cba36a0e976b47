import { create } from 'qrcode';
import { useMemo } from 'react';

export interface QrCodeProps {
  /** The text to encode (an otpauth:// URI). */
  value: string;
  /** Accessible description of what the code is. */
  label: string;
}

/** A QR code drawn locally as SVG (the secret never leaves the browser; no data: URL the CSP would refuse). */
export function QrCode({ value, label }: QrCodeProps) {
  const { size, path } = useMemo(() => {
    const { modules } = create(value, { errorCorrectionLevel: 'M' });
    let d = '';
    for (let y = 0; y < modules.size; y++)
      for (let x = 0; x < modules.size; x++) if (modules.get(y, x)) d += `M${x} ${y}h1v1h-1z`;
    return { size: modules.size, path: d };
  }, [value]);
  return (
    <svg className="qr" role="img" aria-label={label} viewBox={`-2 -2 ${size + 4} ${size + 4}`} shapeRendering="crispEdges">
      <rect x={-2} y={-2} width={size + 4} height={size + 4} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
