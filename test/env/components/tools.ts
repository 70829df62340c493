import { goTool } from '../go-tools.ts';
import type { ComponentContext, ToolsInfo } from '../state.ts';

/** Paths of the helm and kubectl binaries the tests run (built from the pinned Go modules if missing). */
export async function resolveTools(_ctx: ComponentContext): Promise<ToolsInfo> {
  const [helm, kubectl] = await Promise.all([goTool('helm', 'helm'), goTool('kube', 'kubectl')]);
  return { helm, kubectl };
}
