// qr.js - a QR code as an SVG path, drawn from the vendored encoder's
// module matrix (an <img> of a data: URL would need img-src data: in the
// CSP, and innerHTML of its SVG markup would bypass Preact).
import { html } from './html.js';
import qrcode from '../vendor/qrcode.js';

const QUIET = 4; // modules of white border the standard asks for

export function QrCode({ text, label }) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  let d = '';
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + QUIET} ${r + QUIET}h1v1h-1z`;
  }
  const size = n + 2 * QUIET;
  return html`<svg class="qr" viewBox=${`0 0 ${size} ${size}`} role="img" aria-label=${label}
    shape-rendering="crispEdges" xmlns="http://www.w3.org/2000/svg">
    <rect width=${size} height=${size} fill="#fff" />
    <path d=${d} fill="#000" />
  </svg>`;
}
