// "an OPENAI credential", "a GROQ provider": the indefinite article goes by the sound a model
// provider's name starts with. The names are the enum's, read as words (OPENAI, ANTHROPIC,
// AZURE_OPENAI) or, for XAI, spelled out ("ex-A-I"); every name of the catalog is covered by
// test/unit/catalog/model-provider-article.test.ts.
import type { ModelProvider } from './model-provider-catalog';

/** Names that start with a vowel sound: a vowel letter, or an X that is spelled out. */
const VOWEL_SOUND = /^(?:[AEIO]|X)/;

export function indefiniteArticle(modelProvider: ModelProvider): 'a' | 'an' {
  return VOWEL_SOUND.test(modelProvider) ? 'an' : 'a';
}

/** The article with a capital, for the start of a sentence. */
export function capitalizedIndefiniteArticle(modelProvider: ModelProvider): 'A' | 'An' {
  return indefiniteArticle(modelProvider) === 'an' ? 'An' : 'A';
}
