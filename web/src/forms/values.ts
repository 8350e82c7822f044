// Values typed into form controls, as the API should judge them.

/** What a number box holds: a number when it reads as one, else the text (the API says why not). */
export const typedNumber = (text: string): number | string => (text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text);
