export * from './manifest/types';
export * from './constructs/intentions-mode';
export * from './constructs/mesh';
export * from './constructs/node';
export * from './constructs/acl';
export * from './constructs/manifest-key';
export * from './constructs/intentions';
export * from './constructs/policy';
