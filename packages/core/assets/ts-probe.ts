// Imported once per thread by loader.ts to learn whether this thread can load TypeScript
// already (tsx, jest); if it cannot, tsx is registered before any workflow is imported.
export const typescript: boolean = true;
