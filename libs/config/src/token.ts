/**
 * The dependency-injection token under which a service holds its validated AppConfig. A plain
 * symbol, so that any lib can name it without depending on a framework or on the runtime.
 */
export const APP_CONFIG = Symbol('APP_CONFIG');
