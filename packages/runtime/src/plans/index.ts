/**
 * Plans: where every PE instance of a run lives, computed once by the driver and sent to
 * the workers as plain data, so that every worker routes with the same tables.
 * - fixed (`instancePlan`, `partitionPlan`): dispel4py's process assignment, every instance
 *   pinned, roots included; or one partition's sub-graph per unit;
 * - dynamic (`dynamicPlan`): every PE served from a shared pool of workers (stateless only);
 * - placement (`placementPlan`): roots in the driver, then fixed, dynamic or hybrid (stateful
 *   PEs pinned, stateless shared).
 */
export { instancePlan, partitionPlan, placeUnits, minimumWorkers, describeUnit, type MultiPlan, type UnitPlan } from './fixed.js';
export { dynamicPlan, type DynamicPlan } from './dynamic.js';
export { placementPlan, minimumPlacement, type PlacementKind, type PlacementPlan, type PlanPE, type PlanUnit, type PEMode } from './placement.js';
export { portTables, type PortTarget } from './port-tables.js';
