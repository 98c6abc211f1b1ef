/** The error manager room: records, dedupe/counting, suppressions, leak-record reporting. */
export * from './error-record';
export * from './records';
export * from './address-description';
export * from './error-manager';
export * from './suppressions';
export * from './default-suppressions';
export * from './leak-report';
export * from './leak-kinds';
export * from './stack';
export * from './format';
