// X-Twilio-Signature: HMAC-SHA1 of the URL followed by the sorted POST parameters.
export async function validateTwilioSignature(req: Request, form: FormData): Promise<boolean> {
  const signature = req.headers.get("X-Twilio-Signature") ?? "";
  const url = new URL(req.url).pathname;
  return await hmacMatches(url, form, signature);
}
