import { join } from 'node:path';
import { Policy } from '@kubernetes-models/kyverno/kyverno.io/v1/Policy';
import ts from 'typescript';
import { REPO } from '../support/kustomize-render.js';

/**
 * A kyverno.io/v1 Policy checked offline by @kubernetes-models/kyverno, which is generated from Kyverno's CRDs,
 * two ways: its validator (types, enums, required fields) and its TypeScript type, against which the policy is
 * type-checked as an object literal, so a field the CRD does not have is an error (the validator lets unknown
 * fields through; `kubectl apply`, validating strictly, refuses them).
 */
export function kyvernoPolicyErrors(policy: unknown): string[] {
  return [...validatorErrors(policy), ...unknownFieldErrors(policy)];
}

function validatorErrors(policy: unknown): string[] {
  try {
    new Policy(policy as ConstructorParameters<typeof Policy>[0]).validate();
    return [];
  } catch (error) {
    return (error as Error).message.split('\n');
  }
}

/** Type-checks `const policy: IPolicy = <the object>` in a file that exists only in memory, beside the tests. */
function unknownFieldErrors(policy: unknown): string[] {
  const file = join(REPO, 'tests/k8s/kyverno-policy.in-memory.ts');
  const source = `import type { IPolicy } from '@kubernetes-models/kyverno/kyverno.io/v1/Policy';\nexport const policy: IPolicy = ${JSON.stringify(policy, null, 2)};\n`;
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? source : readFile(name));
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '));
}
