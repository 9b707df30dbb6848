// The `papercycle` settings section as the language server reads it (lsp/settings.py):
// pure, so it is unit-tested.
export interface ConfigReader {
  get<T>(key: string): T | undefined;
}

export interface ServerSettings {
  models: Record<string, string>;
  reviewMode: string;
  checkFrequency: string;
  debounceMs: number;
  severities: Record<string, string>;
  enabledCategories: string[] | null;
  autoStartDaemon: boolean;
  aiScientist: { reflections: number; ensemble: number; fewShot: string[] };
}

export const ROLES = ["reviewer", "section", "researcher"] as const;

export function serverSettings(config: ConfigReader): ServerSettings {
  const models: Record<string, string> = {};
  for (const role of ROLES) {
    // "" clears a model chosen before (the daemon's default for that role applies)
    const name = config.get<string | null>(`models.${role}`);
    models[role] = typeof name === "string" ? name.trim() : "";
  }
  const categories = config.get<string[] | null>("enabledCategories");
  return {
    models,
    reviewMode: config.get<string>("reviewMode") ?? "sections",
    checkFrequency: config.get<string>("checkFrequency") ?? "save",
    debounceMs: config.get<number>("debounceMs") ?? 1500,
    severities: { ...(config.get<Record<string, string>>("severities") ?? {}) },
    enabledCategories: Array.isArray(categories) ? categories.map(String) : null,
    autoStartDaemon: config.get<boolean>("autoStartDaemon") ?? true,
    // the AI Scientist reviewer's rounds on whole-paper reviews (the server validates them)
    aiScientist: {
      reflections: config.get<number>("aiScientist.reflections") ?? 0,
      ensemble: config.get<number>("aiScientist.ensemble") ?? 1,
      fewShot: (config.get<string[]>("aiScientist.fewShot") ?? []).map(String),
    },
  };
}

/** Settings that change how the server is started (a restart is needed). */
export const RESTART_KEYS = ["papercycle.server.command", "papercycle.server.python"];
