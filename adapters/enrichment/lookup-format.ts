/**
 * Rendering for `flowlog lookup <ip…>`: what the app knows about each address, as aligned text lines or
 * as JSON, and the list of data sources with their licences.
 *
 *   const loaded = await loadEnricher(options);
 *   const infos = ips.map((ip) => loaded.lookup(ip));
 *   process.stdout.write(json ? formatLookupJson(infos, loaded.sources) : formatLookupText(infos, loaded.sources));
 */

import type { AddressInfo } from '../../domain/enrich';
import type { DataSourceInfo } from './types';

const WIDTH = 13;

function row(name: string, value: string): string {
  return `  ${name.length < WIDTH ? name.padEnd(WIDTH) : `${name} `}${value}`;
}

function coord(v: number): string {
  return v.toFixed(4);
}

/** Where a dataset with one source (service tags, labels) was read from, as `flowlog lookup` shows it. */
function sourceOf(sources: readonly DataSourceInfo[] | undefined, dataset: string): string | null {
  const s = sources?.find((x) => x.dataset === dataset);
  return s === undefined || s.locations.length === 0 ? null : `${s.locations.join(', ')} (${s.name})`;
}

/**
 * The lines describing one address (first line: the address itself); with `sources`, which file gave
 * each field group (`from` lines).
 */
export function formatAddressInfoText(info: AddressInfo, sources?: readonly DataSourceInfo[]): string[] {
  const head =
    info.address !== null && info.address !== info.input.trim()
      ? `${info.input} (${info.address})`
      : info.input;
  const lines = [head];
  if (info.address === null) {
    lines.push(row('error', 'not an IPv4 or IPv6 address'));
    return lines;
  }
  lines.push(row('family', `IPv${info.family}`));
  if (info.special !== null) lines.push(row('special', `${info.special.cidr} ${info.special.description}`));
  if (info.geo !== null) {
    const place = [info.geo.country, info.geo.city].filter((x) => x !== null).join(', ');
    const at =
      info.geo.lat !== null && info.geo.lon !== null
        ? ` (${coord(info.geo.lat)}, ${coord(info.geo.lon)})`
        : '';
    lines.push(row('location', `${place || 'unknown'}${at}`));
    if (info.answeredBy.geo !== null) lines.push(row('  from', info.answeredBy.geo));
  }
  if (info.asn !== null) {
    const ms = info.microsoftAsn ? ' [Microsoft: counts as Azure]' : '';
    lines.push(row('AS', `AS${info.asn.asn}${info.asn.org === null ? '' : ` ${info.asn.org}`}${ms}`));
    if (info.answeredBy.asn !== null) lines.push(row('  from', info.answeredBy.asn));
  }
  if (info.serviceTag !== null) {
    const t = info.serviceTag;
    lines.push(
      row('service tag', `${t.tag.name}${t.tag.region === null ? '' : ` (${t.tag.region})`} ${t.prefix}`),
    );
    const from = sourceOf(sources, 'service tags');
    if (from !== null) lines.push(row('  from', from));
  }
  const otherTags = info.serviceTags.filter((t) => t !== info.serviceTag && !sameTag(t, info.serviceTag));
  if (otherTags.length > 0) {
    lines.push(row('also in', otherTags.map((t) => `${t.tag.name} ${t.prefix}`).join(', ')));
  }
  if (info.label !== null) {
    lines.push(row('label', `${info.label.label} (${info.label.kind}) ${info.label.cidr}`));
    const from = sourceOf(sources, 'labels');
    if (from !== null) lines.push(row('  from', from));
  }
  const otherLabels = info.labels.filter((l) => l !== info.label);
  if (otherLabels.length > 0) {
    lines.push(row('other labels', otherLabels.map((l) => `${l.label} (${l.kind}) ${l.cidr}`).join(', ')));
  }
  lines.push(row('flow side', info.sideClass));
  for (const note of info.notes) lines.push(row('note', note));
  return lines;
}

function sameTag(a: AddressInfo['serviceTag'], b: AddressInfo['serviceTag']): boolean {
  return a !== null && b !== null && a.tag === b.tag && a.prefix === b.prefix;
}

/** The lines describing the loaded data sources. */
export function formatSourcesText(sources: readonly DataSourceInfo[]): string[] {
  if (sources.length === 0) return ['enrichment disabled: no data sources loaded'];
  const lines: string[] = [];
  for (const s of sources) {
    lines.push(
      `${s.dataset}: ${s.name}${s.version === null ? '' : ` (${s.version})`}, loaded in ${s.loadMs} ms`,
    );
    for (const l of s.locations) lines.push(row('from', l));
    for (const d of s.details) lines.push(row('', d));
    if (s.licence !== null) lines.push(row('licence', s.licence));
    if (s.attribution !== null) lines.push(row('attribution', s.attribution));
  }
  return lines;
}

/** Text for `flowlog lookup`: one block per address, then the data sources when given. */
export function formatLookupText(infos: readonly AddressInfo[], sources?: readonly DataSourceInfo[]): string {
  const blocks = infos.map((i) => formatAddressInfoText(i, sources).join('\n'));
  if (sources !== undefined) blocks.push(['data sources:', ...formatSourcesText(sources)].join('\n'));
  return `${blocks.join('\n\n')}\n`;
}

/** JSON for `flowlog lookup --json`: `{ "addresses": [AddressInfo…], "sources": [...] }`, one document. */
export function formatLookupJson(infos: readonly AddressInfo[], sources?: readonly DataSourceInfo[]): string {
  return `${JSON.stringify(sources === undefined ? { addresses: infos } : { addresses: infos, sources }, null, 2)}\n`;
}
