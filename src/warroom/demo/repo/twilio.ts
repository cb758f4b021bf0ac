// Shared Twilio client for edge functions.
const ACCOUNT_SID = Deno.env.get("TWILIO_ACCOUNT_SID")!;
const AUTH_TOKEN = Deno.env.get("TWILIO_AUTH_TOKEN")!;
const MESSAGING_SERVICE_SID = Deno.env.get("TWILIO_MESSAGING_SERVICE_SID")!;

export class TwilioTimeout extends Error {
  name = "TwilioTimeout";
}

export async function sendMessage(to: string, body: string, timeoutMs = 10_000) {
  const url = `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    const res = await fetch(url, {
      method: "POST",
      signal: ctrl.signal,
      headers: {
        Authorization: "Basic " + btoa(`${ACCOUNT_SID}:${AUTH_TOKEN}`),
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ To: to, Body: body, MessagingServiceSid: MESSAGING_SERVICE_SID }),
    });
    const json = await res.json();
    if (!res.ok) return { ok: false as const, code: json.code as number, message: json.message as string };
    return { ok: true as const, sid: json.sid as string };
  } catch (err) {
    if (ctrl.signal.aborted) {
      throw new TwilioTimeout(`POST ${new URL(url).pathname} timed out after ${timeoutMs}ms`);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
