/**
 * Everything under deploy/adx, deploy/dashboards and docs/summary-schema.md, generated from the summary
 * schema module. scripts/generate-deploy.ts writes these files; test/deploy/generate.test.ts fails when the
 * committed files differ from what this returns.
 */
import { adxScripts, renderScript } from './adx';
import { adxDashboard, grafanaDashboard } from './dashboards';
import { summarySchemaDoc } from './schema-doc';

export interface GeneratedFile {
  /** Path relative to the repository root, with forward slashes. */
  readonly path: string;
  readonly content: string;
}

export const ADX_DIR = 'deploy/adx';
export const DASHBOARD_DIR = 'deploy/dashboards';
export const GRAFANA_DASHBOARD = `${DASHBOARD_DIR}/grafana-flowlog.json`;
export const ADX_DASHBOARD = `${DASHBOARD_DIR}/adx-flowlog.json`;
export const SCHEMA_DOC = 'docs/summary-schema.md';

export function generateDeployFiles(): GeneratedFile[] {
  const scripts = adxScripts();
  return [
    ...scripts.map((s) => ({ path: `${ADX_DIR}/${s.file}`, content: renderScript(s) })),
    { path: GRAFANA_DASHBOARD, content: `${JSON.stringify(grafanaDashboard(), null, 2)}\n` },
    { path: ADX_DASHBOARD, content: `${JSON.stringify(adxDashboard(), null, 2)}\n` },
    { path: SCHEMA_DOC, content: summarySchemaDoc(scripts) },
  ];
}

export { ADX } from './names';
