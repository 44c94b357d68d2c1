/**
 * A stack's name from its folder, as `docker compose` derives a project name
 * from a directory: lowercase, every character other than a-z, 0-9, "_" and
 * "-" dropped, leading "_" and "-" trimmed (`pihole-cloudflared-DoH` →
 * `pihole-cloudflared-doh`). Empty when nothing valid is left.
 */
export function stackNameFromFolder(folder: string): string {
  return folder
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}
