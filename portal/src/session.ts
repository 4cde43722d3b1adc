// The signed-in admin's bearer token: in sessionStorage only (gone with the tab), never localStorage.
const TOKEN_KEY = 'credential-vault.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
