export { createBrowserClient as createClient } from "@supabase/ssr";
