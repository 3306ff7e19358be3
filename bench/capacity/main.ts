/**
 * `npm run capacity`: renders docs/capacity.md's tables from bench/results/latest.json (the capacity
 * model, bench/capacity/model.ts). `npm run bench` runs it at the end of a full run.
 */
import { renderCapacityPage } from './render.js';

console.log(renderCapacityPage());
