// Renders the PNG icons from icon.svg and the tray badges below, with Debian's Chromium:
//   node assets/render-icons.mjs
// The PNGs are committed; run this again only after changing a drawing.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
const appIcon = readFileSync(`${here}icon.svg`, 'utf8');

// Each tray state differs in shape, not only colour: check, arrows, exclamation, cross, ring.
const BADGES = {
  connected: {
    fill: '#107C10',
    mark: '<path d="M-4.5 0.5 L-1.5 3.5 L4.5 -3" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>',
  },
  connecting: {
    fill: '#0F6CBD',
    mark: '<circle cx="-4" cy="0" r="1.7" fill="#fff"/><circle cx="0" cy="0" r="1.7" fill="#fff"/><circle cx="4" cy="0" r="1.7" fill="#fff"/>',
  },
  degraded: {
    fill: '#C19C00',
    shape: 'triangle',
    mark: '<path d="M0 -4 L0 1.5" stroke="#000" stroke-width="2.6" stroke-linecap="round"/><circle cx="0" cy="5" r="1.5" fill="#000"/>',
  },
  down: {
    fill: '#C50F1F',
    mark: '<path d="M-3.5 -3.5 L3.5 3.5 M3.5 -3.5 L-3.5 3.5" stroke="#fff" stroke-width="2.6" stroke-linecap="round"/>',
  },
  empty: { fill: '#616161', mark: '<circle cx="0" cy="0" r="3.5" fill="none" stroke="#fff" stroke-width="2.2"/>' },
};

function traySvg({ fill, mark, shape }) {
  const badge =
    shape === 'triangle'
      ? `<path d="M0 -11 L11 9 L-11 9 Z" fill="${fill}" stroke="#fff" stroke-width="2" stroke-linejoin="round"/>`
      : `<circle r="10" fill="${fill}" stroke="#fff" stroke-width="2"/>`;
  // The app glyph, with the status badge over its lower right corner.
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">
  ${appIcon
    .replace(/<\?xml[^>]*>/, '')
    .replace(/<svg[^>]*>/, '<g>')
    .replace('</svg>', '</g>')}
  <g transform="translate(47 47) scale(1.45)">${badge}${mark}</g>
</svg>`;
}

const outputs = [
  ...[1024, 512, 256, 128, 64, 32, 16].map((size) => ({ name: size === 1024 ? 'icon.png' : `icon-${size}.png`, svg: appIcon, size })),
  ...Object.entries(BADGES).flatMap(([state, look]) => [
    { name: `tray-${state}.png`, svg: traySvg(look), size: 32 },
    { name: `tray-${state}-16.png`, svg: traySvg(look), size: 16 },
    { name: `tray-${state}@2x.png`, svg: traySvg(look), size: 64 },
  ]),
];

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
for (const { name, svg, size } of outputs) {
  await page.setViewportSize({ width: size, height: size });
  await page.setContent(
    `<html><body style="margin:0;background:transparent">${svg.replace(/width="64" height="64"/, `width="${size}" height="${size}"`)}</body></html>`,
  );
  writeFileSync(`${here}${name}`, await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } }));
  if (name.startsWith('tray-') && size === 32) writeFileSync(`${here}${name.replace('.png', '.svg')}`, svg);
}
await browser.close();
console.log(`rendered ${outputs.length} icons into ${here}`);
