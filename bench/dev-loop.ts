export async function developerLoop(_options: { smoke: boolean; workDir: string }) {
  return { todo: true };
}
