export { loadAsnCsv, openAsn } from './asn';
export { DEFAULT_CACHE_DIR } from './cache';
export { ASN_ATTRIBUTION, defaultAsn, defaultGeoIp, GEOIP_ATTRIBUTION } from './defaults';
export { type LabelsTableLocation, labelsTableClient, loadLabelsCsv, loadLabelsTable } from './labels';
export { type EnrichmentOptions, type LoadedEnricher, loadEnricher, type RefreshResult } from './load';
export {
  formatAddressInfoText,
  formatLookupJson,
  formatLookupText,
  formatSourcesText,
} from './lookup-format';
export { asnFromRecord, geoFromRecord, openMmdb } from './mmdb';
export { peekChangeNumber, ServiceTagsSource } from './service-tags';
export type { DataSourceInfo } from './types';
