/**
 * How durable this origin's storage is (docs/BROWSER.md, "Keeping the data"). Everything a
 * node holds lives in IndexedDB, which a browser may clear under storage pressure unless
 * the origin's storage is *persistent*; so the page asks for persistence once it has booted
 * and shows which it got.
 */
export interface StorageStatus {
  /** The browser keeps this origin's data until the user clears it (not evicted when space runs low). */
  readonly persisted: boolean;
  /** Bytes this origin uses, as the browser estimates them; null when it does not say. */
  readonly usage: number | null;
  /** Bytes this origin may use; null when the browser does not say. */
  readonly quota: number | null;
}

/** The storage manager, when this context has one (absent in insecure contexts and some embeddings). */
function manager(): StorageManager | undefined {
  return typeof navigator === 'object' && 'storage' in navigator ? navigator.storage : undefined;
}

export async function storageStatus(): Promise<StorageStatus> {
  const storage = manager();
  if (!storage) return { persisted: false, usage: null, quota: null };
  const [persisted, estimate] = await Promise.all([
    storage.persisted().catch(() => false),
    storage.estimate().catch((): StorageEstimate => ({})),
  ]);
  return { persisted, usage: estimate.usage ?? null, quota: estimate.quota ?? null };
}

/**
 * Asks for persistent storage unless the origin has it: Chromium decides without asking
 * (an installed app, a bookmarked or much-used site gets it), Firefox asks the user once.
 * Resolves to whether storage is persistent now; never rejects.
 */
export async function requestPersistence(): Promise<boolean> {
  const storage = manager();
  if (!storage) return false;
  try {
    return (await storage.persisted()) || (await storage.persist());
  } catch {
    return false;
  }
}
