// keibi dashboard: progressive enhancement only. Every page works without it.
"use strict";
