/**
 * The part of Renovate's configuration that renovate.json uses, as a JSON schema of our own, written from the
 * option names and types of Renovate's documentation (docs.renovatebot.com, "Configuration Options"). Every
 * object is closed: an option Renovate does not know, or one this schema has not been taught yet, is an error
 * (Renovate's own validator refuses unknown options too). Add an option here when renovate.json starts using it.
 */
const strings = { type: 'array', items: { type: 'string' }, minItems: 1 } as const;
/** Options that take one string or a list of them. */
const stringOrStrings = { oneOf: [{ type: 'string' }, strings] } as const;
const description = stringOrStrings;

/** Renovate's update types (matchUpdateTypes). */
const UPDATE_TYPES = ['major', 'minor', 'patch', 'pin', 'pinDigest', 'digest', 'lockFileMaintenance', 'rollback', 'bump', 'replacement'];

const customManager = {
  type: 'object',
  additionalProperties: false,
  required: ['customType', 'managerFilePatterns', 'matchStrings'],
  properties: {
    customType: { enum: ['regex', 'jsonata'] },
    description,
    // Patterns as "/regex/" or globs.
    managerFilePatterns: stringOrStrings,
    matchStrings: strings,
    datasourceTemplate: { type: 'string' },
    depNameTemplate: { type: 'string' },
    packageNameTemplate: { type: 'string' },
    versioningTemplate: { type: 'string' },
    extractVersionTemplate: { type: 'string' },
  },
} as const;

const packageRule = {
  type: 'object',
  additionalProperties: false,
  properties: {
    description,
    matchPackageNames: stringOrStrings,
    matchDatasources: stringOrStrings,
    matchUpdateTypes: { type: 'array', minItems: 1, items: { enum: UPDATE_TYPES } },
    groupName: { type: 'string' },
    schedule: stringOrStrings,
  },
} as const;

export const RENOVATE_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    description,
    extends: stringOrStrings,
    enabledManagers: strings,
    pinDigests: { type: 'boolean' },
    customManagers: { type: 'array', items: customManager },
    packageRules: { type: 'array', items: packageRule },
  },
} as const;
