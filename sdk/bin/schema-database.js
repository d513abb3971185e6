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
exports.SchemaDatabase = void 0;
const pulumi = __importStar(require("@pulumi/pulumi"));
const resource_1 = require("./resource");
/** A schema database: owns the schema of its children (Databases with `schemaParent`). */
class SchemaDatabase extends pulumi.CustomResource {
    /** Adopts an existing schema database by name. */
    static get(name, id, opts) {
        return new SchemaDatabase(name, undefined, { ...opts, id });
    }
    static isInstance(obj) {
        return (0, resource_1.isInstanceOf)(obj, SchemaDatabase.__pulumiType);
    }
    constructor(name, args, opts) {
        if (!opts?.id) {
            if (args?.group === undefined)
                throw new Error("Missing required property 'group'");
            if (args?.migrations === undefined)
                throw new Error("Missing required property 'migrations'");
        }
        super(SchemaDatabase.__pulumiType, name, ...(0, resource_1.registration)(args, ["name", "group", "migrations"], ["schemaVersion", "childCount"], opts));
    }
}
exports.SchemaDatabase = SchemaDatabase;
/** @internal */
SchemaDatabase.__pulumiType = "tenantdb:index:SchemaDatabase";
//# sourceMappingURL=schema-database.js.map