declare const STEWARD_VERSION: string | undefined;

/** Set from package.json at build time. */
export const VERSION: string = typeof STEWARD_VERSION === 'string' ? STEWARD_VERSION : '0.0.0-dev';
