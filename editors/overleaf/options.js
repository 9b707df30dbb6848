const url = document.getElementById("url");
const settings = document.getElementById("settings");
const status = document.getElementById("status");
const folder = document.getElementById("folder");
const main = document.getElementById("main");
chrome.storage.local.get(["serverUrl", "settings", "folder", "mainFile"]).then((v) => {
  url.value = v.serverUrl || "";
  folder.value = v.folder || "";
  main.value = v.mainFile || "";
  settings.value = v.settings ? JSON.stringify(v.settings) : "";
});
document.getElementById("save").onclick = async () => {
  let parsed = {};
  try {
    parsed = settings.value.trim() ? JSON.parse(settings.value) : {};
  } catch (e) {
    status.textContent = `settings: ${e.message}`;
    return;
  }
  if (!/^ws:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url.value.trim())) {
    status.textContent = "the URL must be ws://127.0.0.1:PORT/?token=... (a local server)";
    return;
  }
  await chrome.storage.local.set({ serverUrl: url.value.trim(), settings: parsed, folder: folder.value.trim(), mainFile: main.value.trim() || "main.tex" });
  status.textContent = "saved: reload the Overleaf tab";
};
