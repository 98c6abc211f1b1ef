/** The report room: Valgrind-style text, XML protocol 4 output, XML reading, log targets. */
export * from './events';
export * from './frames';
export * from './preamble';
export * from './log-target';
export * from './text-writer';
export * from './xml-writer';
export * from './xml-reader';
export * from './xml-tree';
export * from './end-of-run';
