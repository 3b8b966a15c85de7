export { loadConfig, ConfigError, type AppConfig } from './load-config';
export { variables, type VariableName } from './variables';
export { parseListenAddress, formatListenAddress, type ListenAddress } from './listen-address';
export { parseLocalDelivery, type LocalDeliveryTarget } from './local-delivery';
export { parseDirMode, parseFileMode, parseOwner, type MaildirOwner } from './maildir-settings';
export { APP_CONFIG } from './token';
export { parseMessageRate, formatMessageRate, type MessageRate } from './message-rate';
