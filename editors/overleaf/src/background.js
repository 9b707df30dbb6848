// The options page opens once after installation, to set the local server's URL.
chrome.runtime.onInstalled.addListener((details) => {
  if (details.reason === "install") chrome.storage.local.get("serverUrl").then((v) => { if (!v.serverUrl) chrome.runtime.openOptionsPage(); });
});
