// Task functions that import things, so they cross to workers by reference: the worker
// imports this module and takes the export. Keep such modules free of side effects.
import { createHash } from 'node:crypto';
import { task } from '@d4/executor';

export const digest = task(import.meta.url, 'digest', (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 8));

export const shout = task(import.meta.url, 'shout', (text: string): string => `${text.toUpperCase()}!`);
