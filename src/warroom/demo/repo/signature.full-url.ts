// X-Twilio-Signature: HMAC-SHA1 of the URL followed by the sorted POST parameters.
export async function validateTwilioSignature(req: Request, form: FormData): Promise<boolean> {
  const signature = req.headers.get("X-Twilio-Signature") ?? "";
  // Twilio signs the full public URL, including the query string (#394).
  const { pathname, search } = new URL(req.url);
  const url = Deno.env.get("PUBLIC_FUNCTIONS_URL") + pathname + search;
  return await hmacMatches(url, form, signature);
}
