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
exports.registration = registration;
exports.isInstanceOf = isInstanceOf;
const pulumi = __importStar(require("@pulumi/pulumi"));
const utilities = __importStar(require("./utilities"));
/**
 * How a tenantdb resource class turns its args into one registration: inputs by name, declared
 * output-only properties as undefined (the engine fills them in), and the SDK's default options.
 * Adopting an existing resource (`get`) sends no inputs.
 */
function registration(args, inputNames, outputNames, opts, extra = {}) {
    const inputs = {};
    const adopting = opts?.id !== undefined;
    const values = (args ?? {});
    for (const key of inputNames)
        inputs[key] = adopting ? undefined : values[key];
    for (const key of outputNames)
        if (!(key in inputs))
            inputs[key] = undefined;
    return [inputs, pulumi.mergeOptions(pulumi.mergeOptions(utilities.resourceOptsDefaults(), extra), opts)];
}
function isInstanceOf(obj, type) {
    return obj !== undefined && obj !== null && obj.__pulumiType === type;
}
//# sourceMappingURL=resource.js.map