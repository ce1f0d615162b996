/** "a person", "an enterprise": a noun with its indefinite article, for messages. */
export const withArticle = (noun: string): string => `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
