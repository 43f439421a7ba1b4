/** main.ts runs criu's restore action (src/criu/action.ts) for this argument; the next is its request file. */
export const ACTION_FLAG = '--tsrun-criu-action';
