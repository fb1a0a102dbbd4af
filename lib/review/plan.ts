// Who may talk to whom before and after a saved Terraform plan (`terraform show -json PLAN`):
// the review a pull request needs. The plan's prior state is what is deployed; its planned
// values are what the apply leaves.
import * as fs from 'node:fs';
import { allManifestsInSynth } from '../manifest/extract';
import { buildGraph, diffGraphs, GraphDiff, intentionsInSynth, MeshGraph } from './graph';

interface PlanModule {
  readonly resources?: Array<{ address: string; type: string; values?: any }>;
  readonly child_modules?: PlanModule[];
}

/** A module tree's resources in the shape of synthesized JSON (`resource.<type>.<address>`). */
function asSynth(root: PlanModule | undefined): any {
  const resource: Record<string, Record<string, any>> = {};
  const walk = (m: PlanModule | undefined) => {
    for (const r of m?.resources ?? []) (resource[r.type] ??= {})[r.address] = r.values ?? {};
    for (const c of m?.child_modules ?? []) walk(c);
  };
  walk(root);
  return { resource };
}

function graphOf(root: PlanModule | undefined, where: string): MeshGraph {
  const json = asSynth(root);
  return buildGraph(allManifestsInSynth(json, where), intentionsInSynth(json));
}

/** The deployed graph (prior state) and the planned one, from `terraform show -json` of a plan. */
export function graphsFromPlan(plan: any, source = 'plan'): { before: MeshGraph; after: MeshGraph } {
  if (!plan || typeof plan !== 'object' || !('planned_values' in plan) || !('format_version' in plan)) {
    throw new Error(`${source} is not the JSON of a saved plan: make it with 'terraform plan -out=PLAN' and 'terraform show -json PLAN'`);
  }
  return {
    before: graphOf(plan.prior_state?.values?.root_module, `${source} (deployed)`),
    after: graphOf(plan.planned_values?.root_module, `${source} (planned)`),
  };
}

/** Edges the plan adds, removes and keeps, read from a plan JSON file. */
export function diffFromPlanFile(file: string): GraphDiff {
  let plan: any;
  try {
    plan = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const { before, after } = graphsFromPlan(plan, file);
  return diffGraphs(before, after);
}
