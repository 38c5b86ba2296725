export declare const CHROMIUM_BINARY: string
export declare const CHROMIUM_INSTALL_HINT: string
export declare const CHROMIUM_ARGS: readonly string[]
