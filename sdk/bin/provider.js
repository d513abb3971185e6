"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.Provider = void 0;
const pulumi = __importStar(require("@pulumi/pulumi"));
const utilities = __importStar(require("./utilities"));
/** An explicit tenantdb provider: pick a data directory (or a Platform API) per stack or per resource. */
class Provider extends pulumi.ProviderResource {
    static isInstance(obj) {
        return (obj !== undefined &&
            obj !== null &&
            obj.__pulumiType === `pulumi:providers:${Provider.__pulumiType}`);
    }
    constructor(name, args, opts) {
        const inputs = {
            dataDir: args?.dataDir,
            url: args?.url,
            apiToken: args?.apiToken ? pulumi.secret(args.apiToken) : undefined,
            organization: args?.organization,
        };
        const secretOpts = { additionalSecretOutputs: ["apiToken"] };
        super(Provider.__pulumiType, name, inputs, pulumi.mergeOptions(pulumi.mergeOptions(utilities.resourceOptsDefaults(), secretOpts), opts));
    }
}
exports.Provider = Provider;
/** @internal */
Provider.__pulumiType = "tenantdb";
//# sourceMappingURL=provider.js.map