// Which code may import which (npm run deps). The services (server, worker, client) share code only through
// the contract and service-kit packages; devstack (native Postgres and Redis) is for tests and tooling.
const SERVICES = '(server|worker|client)';
const TEST_CODE = '[.]test[.]tsx?$|/src/testing/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'A module cycle makes load order matter.', from: {}, to: { circular: true } },
    {
      name: 'services-stay-apart',
      severity: 'error',
      comment: 'A service never imports another service: share through contract or service-kit.',
      from: { path: `^${SERVICES}/` },
      to: { path: `^${SERVICES}/`, pathNot: '^$1/' },
    },
    {
      name: 'contract-imports-no-workspace',
      severity: 'error',
      comment: 'The contract is the shared vocabulary; it depends on no other package of this repository.',
      from: { path: '^contract/' },
      to: { path: '^(service-kit|devstack|server|worker|client)/' },
    },
    {
      name: 'service-kit-imports-only-contract',
      severity: 'error',
      comment: 'service-kit serves the server and the worker; it must not reach into them or into the dev tooling.',
      from: { path: '^service-kit/', pathNot: TEST_CODE },
      to: { path: '^(devstack|server|worker|client)/' },
    },
    {
      name: 'devstack-only-in-tests',
      severity: 'error',
      comment: 'Shipped code never runs the native dev databases: only tests and test helpers import devstack.',
      from: { path: `^(contract|service-kit|${SERVICES.slice(1, -1)})/`, pathNot: TEST_CODE },
      to: { path: '^devstack/' },
    },
    {
      name: 'devstack-imports-no-service',
      severity: 'error',
      comment: 'devstack starts services as processes (and may use the shared packages); it never imports a service.',
      from: { path: '^devstack/' },
      to: { path: `^${SERVICES}/` },
    },
    {
      name: 'client-features-not-app',
      severity: 'error',
      comment: 'Client layers import downwards only (app → features → lib): features never import app.',
      from: { path: '^client/src/features/', pathNot: TEST_CODE },
      to: { path: '^client/src/app/' },
    },
    {
      name: 'client-lib-imports-no-layer',
      severity: 'error',
      comment: 'Client layers import downwards only (app → features → lib): lib imports neither.',
      from: { path: '^client/src/lib/' },
      to: { path: '^client/src/(app|features)/' },
    },
    {
      name: 'test-suites-share-through-support',
      severity: 'error',
      comment:
        'A test suite (tests/<suite>/) imports only its own folder and tests/support/, where a helper two suites need lives; support imports no suite.',
      from: { path: '^tests/([^/]+)/' },
      to: { path: '^tests/', pathNot: '^tests/($1|support)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|coverage|reports|[.]stryker-tmp|[.]tmp)/' },
    // Workspace packages resolve to their TypeScript sources (their `development` export), as type checks do.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['development', 'import', 'types', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'],
    },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
  },
};
