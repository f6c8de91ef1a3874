// SPDX-License-Identifier: MIT
// perms.js - what the signed-in user may do (GET cairn/permissions/mine), so pages disable
// what is not allowed (with a title saying what it needs) instead of failing on click.
import { get, ApiError } from './api.js';

const LEVELS = ['NO_PERMISSIONS', 'READ', 'EDIT', 'MANAGE'];

// The user's permission on an experiment: 'READ', 'EDIT', 'MANAGE', ... An older server
// without the route answers 404 ENDPOINT_NOT_FOUND: then nothing is disabled (the server
// still refuses what it must).
export async function experimentPermission(expId) {
  try {
    return (await get('cairn/permissions/mine', { experiment_id: expId })).permission;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.code === 'ENDPOINT_NOT_FOUND') return 'MANAGE';
    throw e;
  }
}

export function allows(have, need) {
  return LEVELS.indexOf(have) >= LEVELS.indexOf(need);
}
