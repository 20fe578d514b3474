export declare const CHROMIUM_FLAGS: string[];
export declare function findChromium(): string | undefined;
export declare function chromiumLaunchOptions(): { executablePath: string; args: string[] };
export declare function chromiumFlags(): string[];
export declare function sharedMemoryFlags(statfs?: (path: string) => { bavail: number; bsize: number }): string[];
