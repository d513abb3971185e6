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
exports.AttachPolicy = void 0;
const pulumi = __importStar(require("@pulumi/pulumi"));
const resource_1 = require("./resource");
/** Lets other databases of the group ATTACH this one (read-only), with a token that lists it. */
class AttachPolicy extends pulumi.CustomResource {
    /** Adopts the policy of an existing database (the id is the database's name). */
    static get(name, id, opts) {
        return new AttachPolicy(name, undefined, { ...opts, id });
    }
    static isInstance(obj) {
        return (0, resource_1.isInstanceOf)(obj, AttachPolicy.__pulumiType);
    }
    constructor(name, args, opts) {
        if (!opts?.id && args?.database === undefined)
            throw new Error("Missing required property 'database'");
        super(AttachPolicy.__pulumiType, name, ...(0, resource_1.registration)(args, ["database", "allowAttach"], [], opts));
    }
}
exports.AttachPolicy = AttachPolicy;
/** @internal */
AttachPolicy.__pulumiType = "tenantdb:index:AttachPolicy";
//# sourceMappingURL=attach-policy.js.map