"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.getVersion = getVersion;
exports.resourceOptsDefaults = resourceOptsDefaults;
/** The plugin version this SDK was built for; the engine starts that version of pulumi-resource-tenantdb. */
function getVersion() {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("../package.json").version;
}
function resourceOptsDefaults() {
    return { version: getVersion() };
}
//# sourceMappingURL=utilities.js.map