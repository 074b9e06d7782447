// Renders CSL-JSON with citeproc-js as plain text, one bibliography entry per line.
// usage: node render.js STYLE.csl LOCALE.xml ITEMS.json
const fs = require("fs");
const CSL = require("citeproc");

const [styleFile, localeFile, itemsFile] = process.argv.slice(2);
const items = JSON.parse(fs.readFileSync(itemsFile, "utf8"));
const byId = Object.fromEntries(items.map((item) => [item.id, item]));
const engine = new CSL.Engine(
  {
    retrieveLocale: () => fs.readFileSync(localeFile, "utf8"),
    retrieveItem: (id) => byId[id],
  },
  fs.readFileSync(styleFile, "utf8"),
  "en-US",
);
engine.setOutputFormat("text");
engine.updateItems(items.map((item) => item.id));
const [, entries] = engine.makeBibliography();
for (const entry of entries) {
  process.stdout.write(entry.trim().replace(/\s*\n\s*/g, " ") + "\n");
}
