"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.Token = exports.SchemaDatabase = exports.Provider = exports.Group = exports.Database = exports.AttachPolicy = void 0;
var attach_policy_1 = require("./attach-policy");
Object.defineProperty(exports, "AttachPolicy", { enumerable: true, get: function () { return attach_policy_1.AttachPolicy; } });
var database_1 = require("./database");
Object.defineProperty(exports, "Database", { enumerable: true, get: function () { return database_1.Database; } });
var group_1 = require("./group");
Object.defineProperty(exports, "Group", { enumerable: true, get: function () { return group_1.Group; } });
var provider_1 = require("./provider");
Object.defineProperty(exports, "Provider", { enumerable: true, get: function () { return provider_1.Provider; } });
var schema_database_1 = require("./schema-database");
Object.defineProperty(exports, "SchemaDatabase", { enumerable: true, get: function () { return schema_database_1.SchemaDatabase; } });
var token_1 = require("./token");
Object.defineProperty(exports, "Token", { enumerable: true, get: function () { return token_1.Token; } });
//# sourceMappingURL=index.js.map