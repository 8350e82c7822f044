import type { Config } from '../config/load-config.js';
import { RegionSchema, type Region } from '../config/settings.js';

export { RegionSchema, type Region };

/** The region catalog comes from configuration (ROGER_REGIONS): no store access. */
export function listRegions(config: Config): readonly Region[] {
  return config.regions;
}

export function findRegion(config: Config, id: string): Region | undefined {
  return config.regions.find((region) => region.id === id);
}
