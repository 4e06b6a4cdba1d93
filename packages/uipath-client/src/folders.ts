/** Folder context for folder-scoped calls: exactly one of these. */
export type Folder = { id: number } | { key: string } | { path: string };

/**
 * The folder header. A path with non-ASCII characters goes as
 * `X-UIPATH-FolderPath-Encoded` (base64 of UTF-16LE), as Orchestrator decodes it.
 */
export function folderHeaders(folder: Folder): Record<string, string> {
  if ('id' in folder) return { 'X-UIPATH-OrganizationUnitId': String(folder.id) };
  if ('key' in folder) return { 'X-UIPATH-FolderKey': folder.key };
  if (/^[\x20-\x7e]*$/.test(folder.path)) return { 'X-UIPATH-FolderPath': folder.path };
  return { 'X-UIPATH-FolderPath-Encoded': Buffer.from(folder.path, 'utf16le').toString('base64') };
}

export const folderLabel = (folder: Folder): string =>
  'id' in folder ? `id:${folder.id}` : 'key' in folder ? `key:${folder.key}` : `path:${folder.path}`;

/** OData string literal: single quotes doubled. */
export const odataString = (s: string): string => `'${s.replace(/'/g, "''")}'`;
