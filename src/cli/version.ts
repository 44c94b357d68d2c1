/** berth's version, as `berth --version` prints it (scripts/bundle.mjs writes it into the start-up file too). */
export const VERSION = '0.1.0';
