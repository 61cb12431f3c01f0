import { v7 as uuidv7, validate } from 'uuid';

/** Time-ordered UUIDs (v7): index-friendly, and ordering by id follows creation order. */
export function newId(): string {
  return uuidv7();
}

export function isUuid(value: string): boolean {
  return validate(value);
}
