/** The parameter-change library in one import: the run and its requests, apply, revert, and what earlier runs left. */
export * from './ParameterRun.js';
export * from './applyParameterChanges.js';
export * from './revertParameterChanges.js';
export * from './unrevertedParameters.js';
