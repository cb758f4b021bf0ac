import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/** Normalise a phone number typed by a person to E.164, or null when it cannot be a mobile. */
export function toE164(input: string, defaultCountry: "US" | "GB" = "US"): string | null {
  const parsed = parsePhoneNumberFromString(input.trim(), defaultCountry);
  if (!parsed?.isValid()) return null;
  const type = parsed.getType();
  if (type && type !== "MOBILE" && type !== "FIXED_LINE_OR_MOBILE") return null;
  return parsed.number;
}
